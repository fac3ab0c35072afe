/** A wrong argument or option from the caller: the message says which and what it takes (CLI exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
