/** A sleep that `wake()` cuts short. */
export class Waker {
  private wakeUp: (() => void) | undefined;
  private signalled = false;

  wake(): void {
    this.signalled = true;
    this.wakeUp?.();
  }

  /** Whether a wake-up came since the last clear() or sleep(). */
  woken(): boolean {
    return this.signalled;
  }

  /** Forgets wake-ups so far: called right before a read that will see what they announced. */
  clear(): void {
    this.signalled = false;
  }

  /** Resolves after `ms`, or at once/early when woken; consumes the wake-up. True when woken. */
  async sleep(ms: number): Promise<boolean> {
    if (!this.signalled) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wakeUp = done;
      });
      this.wakeUp = undefined;
    }
    const woken = this.signalled;
    this.signalled = false;
    return woken;
  }
}
