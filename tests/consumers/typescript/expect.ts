// Compile-time checks shared by api.ts and react.tsx.

/** Compile-time equality of two types. */
export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export function assertType<_T extends true>(): void {}
