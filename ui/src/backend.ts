// The one module that knows the UI runs inside Tauri. Everything else calls
// `call` with the generated contract types, so a renamed command or a changed
// shape is a compile error, not a runtime surprise.
import { invoke } from "@tauri-apps/api/core";

import { ErrorCodes } from "./ipc/contract";
import type { ApiError, Commands, ErrorCode } from "./ipc/contract";

export type CommandName = keyof Commands;
type Req<K extends CommandName> = Commands[K][0];
type Res<K extends CommandName> = Commands[K][1];

export async function call<K extends CommandName>(
  command: K,
  ...request: Req<K> extends null ? [] : [Req<K>]
): Promise<Res<K>> {
  try {
    const args = request.length === 0 ? {} : { request: request[0] };
    return (await invoke(command, args)) as Res<K>;
  } catch (raw) {
    throw toApiError(raw);
  }
}

function toApiError(raw: unknown): ApiError {
  if (typeof raw === "object" && raw !== null && "code" in raw && "message" in raw) {
    const { code, message } = raw as { code: unknown; message: unknown };
    return { code: knownCode(code), message: String(message) };
  }
  return { code: ErrorCodes.Ipc, message: String(raw) };
}

const CODES: readonly string[] = Object.values(ErrorCodes);

// A code this build does not know (a newer app behind an older page) is
// reported as the transport's, never passed on as an unchecked string.
function knownCode(code: unknown): ErrorCode {
  return CODES.includes(String(code)) ? (String(code) as ErrorCode) : ErrorCodes.Ipc;
}
