/**
 * The go builder's push through a real registry's token authentication (scripts/verify-registry-auth):
 * Debian's docker-registry sends the client to this suite's realm, which checks the credentials,
 * grants what the scope asks for and signs the token with the key the registry trusts. What the
 * registry then accepts is its own judgement of the token: issuer, audience, expiry, signature and
 * the access granted to the repository.
 */
import { createPrivateKey, randomUUID, sign, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configOf, layerOf, pushImage, type RegistryLogin } from "../../components/image/ociImage";
import { requiredEnv } from "./env";

const registry = requiredEnv("FLOTILLA_REGISTRY");
const login: RegistryLogin = { username: "flotilla-ci", password: "the right password" };
/** The scopes the realm was asked for, in order, with whether it granted them. */
const asked: { scope: string; granted: boolean }[] = [];

const base64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/** A token for `scope` (`repository:<name>:<actions>`), as distribution's token specification has it. */
function tokenFor(scope: string | null, subject: string): string {
  const key = createPrivateKey(readFileSync(requiredEnv("FLOTILLA_TOKEN_KEY")));
  const certificate = new X509Certificate(readFileSync(requiredEnv("FLOTILLA_TOKEN_CERT")));
  const [type, name, actions] = (scope ?? "").split(":");
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: "JWT", alg: "RS256", x5c: [certificate.raw.toString("base64")] };
  const claims = {
    iss: "flotilla-test-issuer",
    sub: subject,
    aud: "flotilla-test-registry",
    exp: now + 300,
    nbf: now - 10,
    iat: now,
    jti: randomUUID(),
    access: scope ? [{ type, name, actions: (actions ?? "").split(",") }] : [],
  };
  const signed = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${signed}.${base64url(sign("sha256", Buffer.from(signed), key))}`;
}

let realm: Server;

beforeAll(async () => {
  realm = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://realm");
    const expected = `Basic ${Buffer.from(`${login.username}:${login.password}`).toString("base64")}`;
    const granted = url.searchParams.get("service") === "flotilla-test-registry" && request.headers.authorization === expected;
    asked.push({ scope: url.searchParams.get("scope") ?? "", granted });
    if (!granted) {
      response.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ details: "wrong credentials" }));
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: tokenFor(url.searchParams.get("scope"), login.username) }));
  });
  await new Promise<void>((resolve) => realm.listen(Number(requiredEnv("FLOTILLA_TOKEN_PORT")), "127.0.0.1", resolve));
});

afterAll(async () => {
  await new Promise((resolve) => realm.close(resolve));
});

/** A one-file image, different for each `label`. */
function image(label: string) {
  const layer = layerOf([{ path: "/label", mode: 0o644, content: Buffer.from(label) }]);
  const config = configOf({ os: "linux", architecture: "amd64", user: "65532:65532", entrypoint: ["/service"], env: [], exposedPorts: [8080] }, [layer.diffId]);
  return { config, layers: [layer.blob] };
}

describe("the go builder's push to a registry that asks for tokens", () => {
  it("gets a token for the repository's pull and push with the credentials, and pushes; the registry serves the manifest pushed", async () => {
    const { config, layers } = image("first");
    asked.length = 0;
    const digest = await pushImage({ registry, repository: "flotilla/users", tag: "src-1" }, config, layers, login);
    // The registry lists a scope's actions in no fixed order (push,pull in some runs, pull,push in others).
    const actions = asked.map((a) => a.scope.split(":")).map(([type, name, list]) => `${type}:${name}:${(list ?? "").split(",").sort().join(",")}`);
    expect(actions).toContain("repository:flotilla/users:pull,push");
    expect(asked.every((a) => a.granted)).toBe(true);

    const read = await fetch(`http://${registry}/v2/flotilla/users/manifests/src-1`, {
      headers: { accept: "application/vnd.oci.image.manifest.v1+json", authorization: `Bearer ${tokenFor("repository:flotilla/users:pull", "reader")}` },
    });
    expect(read.status).toBe(200);
    expect(read.headers.get("docker-content-digest")).toBe(digest);
  });

  it("refuses wrong credentials with the realm's answer, and the registry holds nothing of that push", async () => {
    const { config, layers } = image("refused");
    await expect(pushImage({ registry, repository: "flotilla/gateway", tag: "src-1" }, config, layers, { ...login, password: "wrong" })).rejects.toThrow(
      /^getting a token from http:\/\/127\.0\.0\.1:\d+: HTTP 401 Unauthorized: \{"details":"wrong credentials"\}$/,
    );
    const read = await fetch(`http://${registry}/v2/flotilla/gateway/manifests/src-1`, {
      headers: { authorization: `Bearer ${tokenFor("repository:flotilla/gateway:pull", "reader")}` },
    });
    expect(read.status).toBe(404);
  });

  it("without credentials, says the realm refused them", async () => {
    const { config, layers } = image("anonymous");
    await expect(pushImage({ registry, repository: "flotilla/users", tag: "src-2" }, config, layers)).rejects.toThrow(/^getting a token from .*: HTTP 401/);
  });

  it("a token the registry does not trust is refused by the registry itself", async () => {
    const forged = tokenFor("repository:flotilla/users:pull", "reader").replace(/\.[^.]+$/, `.${base64url("not a signature")}`);
    const read = await fetch(`http://${registry}/v2/flotilla/users/manifests/src-1`, { headers: { authorization: `Bearer ${forged}` } });
    expect(read.status).toBe(401);
  });
});
