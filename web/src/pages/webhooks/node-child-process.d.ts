// verificationExamples.test.ts runs the examples with the real interpreters. The project
// has no @types/node, so this declares the one function that test uses.
declare module "node:child_process" {
  export function execFileSync(
    file: string,
    args: readonly string[],
    options: { encoding: "utf8"; timeout?: number },
  ): string;
}
