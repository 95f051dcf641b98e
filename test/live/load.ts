/**
 * A bounded load on the gateway from the host, over the real node's network (its ClusterIP, which
 * kube-proxy forwards to the pods): reads of the seeded user and creates with fresh emails, from a
 * few workers, until `until` settles, capped in time and count.
 *
 * A read is sent once more when the keep-alive connection it went on was closed or reset before
 * any response came: a stopping server closes its idle connections, and a request may be on its way
 * on one by then, which the kernel answers with a reset when it finds unread data. HTTP allows the
 * resend for idempotent requests (RFC 9112, 9.3.1) and Go's http.Transport does it; those reads are
 * counted apart. A create is never sent again.
 */
export interface LoadResult {
  readonly reads: number;
  readonly failedReads: number;
  /** Reads sent again on a new connection after their reused one was closed unanswered. */
  readonly resentReads: number;
  readonly creates: number;
  readonly failedCreates: number;
  /** The ids of the users whose creates were answered 201, each a user that must now exist. */
  readonly created: readonly string[];
  /** The first few failures, for the message of a failing assertion. */
  readonly failures: readonly string[];
  readonly seconds: number;
}

const maxRequests = 200_000;

/**
 * Whether a request failed because its connection was closed (undici's code) or reset before any
 * response. A reset needs an established connection: a refused or unreachable one is not resent.
 */
const closedUnanswered = (error: unknown) => ["UND_ERR_SOCKET", "ECONNRESET"].includes(String((error as { cause?: { code?: string } }).cause?.code));

async function read(url: string, resent: () => void): Promise<Response> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    if (!closedUnanswered(error)) {
      throw error;
    }
    resent();
    return await fetch(url, { signal: AbortSignal.timeout(5000) });
  }
}

export async function underLoad(baseUrl: string, until: () => Promise<unknown>, opts: { workers?: number; maxSeconds?: number } = {}): Promise<LoadResult> {
  const workers = opts.workers ?? 4;
  const deadline = Date.now() + (opts.maxSeconds ?? 180) * 1000;
  const start = Date.now();
  let done = false;
  let sent = 0;
  const counts = { reads: 0, failedReads: 0, resentReads: 0, creates: 0, failedCreates: 0 };
  const failures: string[] = [];
  const created: string[] = [];
  const fail = (what: string) => failures.length < 5 && failures.push(what);

  const worker = async (id: number) => {
    for (let n = 0; !done && Date.now() < deadline && sent < maxRequests; n++) {
      sent++;
      const create = n % 10 === 9;
      const email = `load-${start}-${id}-${n}@example.com`;
      try {
        const response = create
          ? await fetch(`${baseUrl}/v1/users`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ name: "Load", email }),
              signal: AbortSignal.timeout(5000),
            })
          : await read(`${baseUrl}/v1/users/1`, () => counts.resentReads++);
        const body = await response.text();
        if (create) {
          counts.creates++;
          if (response.status === 201) {
            created.push((JSON.parse(body) as { id: string }).id);
          } else {
            counts.failedCreates++;
            fail(`create: HTTP ${response.status}`);
          }
        } else {
          counts.reads++;
          if (response.status !== 200) {
            counts.failedReads++;
            fail(`read: HTTP ${response.status}`);
          }
        }
      } catch (error) {
        if (create) {
          counts.creates++;
          counts.failedCreates++;
        } else {
          counts.reads++;
          counts.failedReads++;
        }
        fail(`${create ? "create" : "read"}: ${String((error as Error).cause ?? error)}`);
      }
    }
  };

  const running = Array.from({ length: workers }, (_, id) => worker(id));
  try {
    await until();
  } finally {
    done = true;
    await Promise.all(running);
  }
  return { ...counts, created, failures, seconds: (Date.now() - start) / 1000 };
}
