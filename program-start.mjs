// Node's start for the program (Pulumi.yaml's nodeargs, `--import`), before the Pulumi SDK loads:
//   - Node's on-disk compile cache, so that the SDK's, the providers' and the program's
//     JavaScript is compiled once per machine rather than at every `pulumi up` and preview: loading
//     the SDK and the program took 1.6 s without it and 1.3 s with it. Node checks each entry
//     against the source and its own version; a Node without the API runs as before.
//   - tsx, which runs the TypeScript source, loaded here as `--import tsx` would load it, so that
//     what it turns on can be turned off after it:
//   - Node's own source maps. tsx enables them, and Node then decodes every TypeScript module's
//     map as it loads it, 0.2-0.3 s a run, for nothing: the SDK's runner installs
//     source-map-support, whose stack traces replace Node's and cannot see tsx's maps, so a
//     program's stack trace reads the same with them off (docs/benchmarks.md).
//   - The TypeScript compiler, which the SDK loads as it starts for its function serialiser alone
//     (`runtime/closure/parseFunction.js`, required at the top of `createClosure.js`), and which
//     this program never calls: the project's TypeScript took 0.4-0.55 s of every run to load.
//     The SDK's shim for it is answered by a stand-in that loads the real one at its first use.
import * as nodeModule from "node:module";
import process from "node:process";

nodeModule.enableCompileCache?.();
await import("tsx");
process.setSourceMapsEnabled(false);
deferTypeScript();

function deferTypeScript() {
  const require = nodeModule.createRequire(import.meta.url);
  let shimPath;
  try {
    shimPath = require.resolve("@pulumi/pulumi/typescript-shim.js");
  } catch {
    return; // an SDK without the shim: nothing to defer
  }
  let compiler;
  const load = () => {
    if (!compiler) {
      delete require.cache[shimPath];
      compiler = require(shimPath);
    }
    return compiler;
  };
  const standIn = new nodeModule.Module(shimPath);
  standIn.filename = shimPath;
  standIn.loaded = true;
  standIn.exports = new Proxy(
    {},
    {
      get: (_target, key) => load()[key],
      has: (_target, key) => key in load(),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_target, key) => {
        const descriptor = Object.getOwnPropertyDescriptor(load(), key);
        return descriptor && { ...descriptor, configurable: true };
      },
    },
  );
  require.cache[shimPath] = standIn;
}
