/**
 * Per-service build contexts from `go list`: change a file of a temporary Go module and see
 * which services' tags move. Runs the real Go toolchain.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { forgetGoModules, goBuildFiles, stageContext } from "../components/image/goContext";
import { contentTag } from "../components/image/contextHash";

let module: string;

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(module, file)), { recursive: true });
  fs.writeFileSync(path.join(module, file), text);
}

beforeEach(() => {
  module = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-gomod-"));
  write("go.mod", "module example.test/shop\n\ngo 1.26\n");
  write("go.sum", "");
  write("Dockerfile", "FROM scratch\n");
  write(".dockerignore", "**/*_test.go\n");
  write("internal/shared/shared.go", 'package shared\n\nfunc Name() string { return "shared" }\n');
  write("internal/orders/orders.go", 'package orders\n\nimport "example.test/shop/internal/shared"\n\nfunc Run() string { return shared.Name() }\n');
  write("internal/orders/orders_test.go", "package orders\n");
  write("cmd/orders/main.go", 'package main\n\nimport "example.test/shop/internal/orders"\n\nfunc main() { println(orders.Run()) }\n');
  write("cmd/billing/main.go", 'package main\n\nimport "example.test/shop/internal/shared"\n\nfunc main() { println(shared.Name()) }\n');
});

/** Each service's tag, staged the way ServiceImage stages it, the module listed afresh. */
function tags(): Record<string, string> {
  forgetGoModules();
  return Object.fromEntries(
    ["orders", "billing"].map((service) => {
      const staged = path.join(module, "..", `${path.basename(module)}-staged`, service);
      stageContext(module, "Dockerfile", goBuildFiles(module, `./cmd/${service}`), staged);
      return [service, contentTag({ context: staged, dockerfile: "Dockerfile", args: { SERVICE: service }, platform: "linux/amd64" })];
    }),
  );
}

describe("a Go service's own build context", () => {
  it("lists what the main package compiles from, and no tests", () => {
    expect(goBuildFiles(module, "./cmd/orders")).toEqual(["cmd/orders/main.go", "go.mod", "go.sum", "internal/orders/orders.go", "internal/shared/shared.go"]);
    expect(goBuildFiles(module, "./cmd/billing")).toEqual(["cmd/billing/main.go", "go.mod", "go.sum", "internal/shared/shared.go"]);
  });

  it("moves only the changed service's tag", () => {
    const before = tags();
    write("internal/orders/orders.go", 'package orders\n\nimport "example.test/shop/internal/shared"\n\nfunc Run() string { return shared.Name() + "!" }\n');
    const after = tags();
    expect(after.orders).not.toBe(before.orders);
    expect(after.billing).toBe(before.billing);
  });

  it("moves every dependent's tag when shared code or go.mod changes", () => {
    const before = tags();
    write("internal/shared/shared.go", 'package shared\n\nfunc Name() string { return "common" }\n');
    const shared = tags();
    expect(shared.orders).not.toBe(before.orders);
    expect(shared.billing).not.toBe(before.billing);
    write("go.mod", "module example.test/shop\n\ngo 1.26.0\n");
    const moduleChanged = tags();
    expect(moduleChanged.orders).not.toBe(shared.orders);
    expect(moduleChanged.billing).not.toBe(shared.billing);
  });

  it("leaves a test file's change out of every tag", () => {
    const before = tags();
    write("internal/orders/orders_test.go", "package orders\n\n// more tests\n");
    expect(tags()).toEqual(before);
  });

  it("refuses a main package the module does not have", () => {
    expect(() => goBuildFiles(module, "./cmd/nothing")).toThrow(/\.\/cmd\/nothing is not a package of the Go module/);
  });
});
