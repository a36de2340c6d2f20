// Client-side request pacing: a token bucket under the server's per-key limit, plus a
// pause honouring the server's `Retry-After` after a 429.

/** The server allows 10 requests/s per key by default; stay below it. */
export const CLIENT_RATE_PER_S = 8;
/** Requests that may go out back to back before pacing starts. */
export const CLIENT_BURST = 4;
const MS_PER_S = 1000;

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class RateGate {
  private tokens: number;
  private last: number;
  private pausedUntil = 0;

  constructor(
    private readonly ratePerS = CLIENT_RATE_PER_S,
    private readonly burst = CLIENT_BURST,
    private readonly now: () => number = () => Date.now(),
    private readonly sleep: Sleep = realSleep,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Stop every request until `seconds` from now (a 429's Retry-After). */
  pauseFor(seconds: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + seconds * MS_PER_S);
  }

  /** Resolves when one more request may go out. */
  async take(): Promise<void> {
    for (;;) {
      const now = this.now();
      if (now < this.pausedUntil) {
        await this.sleep(this.pausedUntil - now);
        continue;
      }
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / MS_PER_S) * this.ratePerS);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.sleep(((1 - this.tokens) / this.ratePerS) * MS_PER_S);
    }
  }
}
