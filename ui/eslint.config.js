import js from "@eslint/js";
import tseslint from "typescript-eslint";

const onlyTheBackendTalksToTauri = {
  patterns: [
    {
      group: ["@tauri-apps/*"],
      message: "Only src/backend.ts may import @tauri-apps/*: call its typed `call` instead.",
    },
  ],
};

export default tseslint.config(
  { ignores: ["dist/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["src/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", onlyTheBackendTalksToTauri],
      // Forge text is attacker-controlled: never parse strings as HTML.
      "no-restricted-properties": [
        "error",
        { property: "innerHTML", message: "Build nodes with dom.ts; never parse forge text as HTML." },
        { property: "outerHTML", message: "Build nodes with dom.ts; never parse forge text as HTML." },
        { property: "insertAdjacentHTML", message: "Build nodes with dom.ts." },
      ],
      "no-restricted-syntax": [
        "error",
        { selector: "AssignmentExpression[left.property.name='innerHTML']", message: "No innerHTML." },
      ],
    },
  },
  {
    files: ["src/backend.ts"],
    rules: { "no-restricted-imports": "off" },
  },
);
