import CircuitBreaker from "opossum";

export interface UpstreamGuardParameters {
  /** Requests to the upstream in flight at once; more are refused at once (default 1,024). */
  maxInFlight?: number;
  /** Failures (no answer, or a 5xx) in the rolling window, in percent, that open the circuit (default 50). */
  errorThresholdPercentage?: number;
  /** Requests in the rolling window before the circuit may open (default 20). */
  volumeThreshold?: number;
  /** How long the circuit stays open before one trial request (ms, default 5,000). */
  resetTimeoutMs?: number;
  /** The rolling window (ms, default 10,000). */
  rollingWindowMs?: number;
}

/** The upstream did not answer usefully: the request is not charged, and the breaker counts a failure. */
export class UpstreamFailure extends Error {
  override name = "UpstreamFailure";
  /** `timeout`: no answer in time; `failed`: no answer (refused, reset) or a 5xx. */
  readonly kind: "timeout" | "failed";
  readonly status: number | undefined;

  /** @param status the upstream's 5xx status, or undefined when it gave no answer. */
  constructor(kind: "timeout" | "failed", message: string, status?: number) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

/** The client left before the upstream answered: not the upstream's fault, so the breaker does not count it. */
export class ClientLeft extends Error {
  override name = "ClientLeft";
}

/** Why the guard refused to send a request (nothing was sent). */
export type UpstreamRefusal = "circuit-open" | "too-many-in-flight";

/**
 * Stands between the data route and the upstream: a bounded number of requests in flight (a slow upstream cannot
 * pile up unbounded work) and a circuit breaker (opossum) that stops sending to a failing upstream for
 * `resetTimeoutMs`, then lets one trial request through. Timeouts are the proxy's (undici's headers and body
 * timeouts); the breaker only counts their failures.
 */
export class UpstreamGuard {
  readonly #breaker: CircuitBreaker<[() => Promise<number>], number>;
  readonly #capacity: number;
  #inFlight = 0;

  constructor(parameters: UpstreamGuardParameters = {}) {
    this.#capacity = parameters.maxInFlight ?? 1_024;
    this.#breaker = new CircuitBreaker((send: () => Promise<number>) => send(), {
      timeout: false,
      capacity: this.#capacity,
      errorThresholdPercentage: parameters.errorThresholdPercentage ?? 50,
      volumeThreshold: parameters.volumeThreshold ?? 20,
      resetTimeout: parameters.resetTimeoutMs ?? 5_000,
      rollingCountTimeout: parameters.rollingWindowMs ?? 10_000,
      rollingCountBuckets: 10,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      // Clients hanging up must not open the circuit for everyone else.
      errorFilter: (error: unknown) => error instanceof ClientLeft,
    });
  }

  /** Whether a request sent now would be refused without reaching the upstream. */
  refusal(): UpstreamRefusal | undefined {
    if (this.#breaker.opened) return "circuit-open";
    if (this.#inFlight >= this.#capacity) return "too-many-in-flight";
    return undefined;
  }

  /** Requests the upstream is answering now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** `"closed"`, `"open"` or `"half-open"`. */
  get state(): "closed" | "open" | "half-open" {
    return this.#breaker.halfOpen ? "half-open" : this.#breaker.opened ? "open" : "closed";
  }

  /**
   * Sends through the guard: `send` resolves with the upstream's status (a 5xx counts as a failure) or rejects with
   * an `UpstreamFailure`. Rejects with the refusal's name when nothing was sent.
   */
  async send(send: () => Promise<number>): Promise<number> {
    try {
      return await this.#breaker.fire(async () => {
        this.#inFlight++;
        const status = await send().finally(() => this.#inFlight--);
        if (status >= 500) throw new UpstreamFailure("failed", `the upstream answered ${status}`, status);
        return status;
      });
    } catch (error) {
      if (error instanceof UpstreamFailure && error.status !== undefined) return error.status;
      const code = (error as { code?: string }).code;
      if (code === "EOPENBREAKER") throw new UpstreamGuardRefused("circuit-open");
      if (code === "ESEMLOCKED") throw new UpstreamGuardRefused("too-many-in-flight");
      throw error;
    }
  }

  /** Stops the breaker's timers. */
  close(): void {
    this.#breaker.shutdown();
  }
}

export class UpstreamGuardRefused extends Error {
  override name = "UpstreamGuardRefused";
  readonly refusal: UpstreamRefusal;

  constructor(refusal: UpstreamRefusal) {
    super(refusal === "circuit-open" ? "the upstream's circuit is open" : "too many requests wait for the upstream");
    this.refusal = refusal;
  }
}
