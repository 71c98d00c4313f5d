/**
 * Where a command's output goes. Under --json stdout carries only the JSON document, so a script
 * can parse it; every hint (the equivalent `temporal` command, links, progress) goes to stderr.
 */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Prints the equivalent command; to stderr under --json so stdout stays machine-readable. */
export function printEquivalent(io: CliIo, json: boolean | undefined, command: string): void {
  (json ? io.err : io.out)(`equivalent: ${command}`);
}

/** The command's result: the document under --json, else the line for people. */
export function printOutcome(io: CliIo, json: boolean | undefined, doc: object, text: string): void {
  io.out(json ? JSON.stringify(doc, null, 2) : text);
}

/** A line for people that is not the result (a hint, a link): stdout normally, stderr under --json. */
export function printHint(io: CliIo, json: boolean | undefined, line: string): void {
  (json ? io.err : io.out)(line);
}
