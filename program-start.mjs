// Node's start for the program (Pulumi.yaml's nodeargs, `--import`), before the Pulumi SDK loads:
//   - Node's on-disk compile cache, so that the SDK's, the providers' and the program's
//     JavaScript is compiled once per machine rather than at every `pulumi up` and preview: loading
//     the SDK and the program took 1.6 s without it and 1.3 s with it. Node checks each entry
//     against the source and its own version; a Node without the API runs as before.
//   - tsx, which runs the TypeScript source, loaded here as `--import tsx` would load it, so that
//     what it turns on can be set after it:
//   - Stack traces at the TypeScript source's lines, by Node's own source maps, for the program's
//     modules alone: tsx compiles each with an inline map (its output puts a module on one line,
//     so an unmapped frame reads `quantities.ts:2:1647`). The maps of node_modules, which point to
//     sources the packages do not ship, are not read. The SDK's runner would install
//     source-map-support, which cannot see tsx's maps (it reads the files on disk), replaces
//     Node's formatting, and maps every frame of every stack the SDK takes, several per resource
//     (each debuggable promise's, and each registration's whole stack for its source position):
//     the program of 100 services ran 13-15 s under mocks with it, 6-7 s without. Its register
//     module is answered by an empty stand-in.
//   - The TypeScript compiler, which the SDK loads as it starts for its function serialiser alone
//     (`runtime/closure/parseFunction.js`, required at the top of `createClosure.js`), and which
//     this program never calls: the project's TypeScript took 0.4-0.55 s of every run to load.
//     The SDK's shim for it is answered by a stand-in that loads the real one at its first use.
import * as nodeModule from "node:module";
import process from "node:process";

nodeModule.enableCompileCache?.();
await import("tsx");
const require = nodeModule.createRequire(import.meta.url);
if (nodeModule.setSourceMapsSupport) {
  nodeModule.setSourceMapsSupport(true, { nodeModules: false, generatedCode: false });
  const runner = nodeModule.createRequire(require.resolve("@pulumi/pulumi/cmd/run/index.js"));
  standIn(runner.resolve("source-map-support/register"), {});
} else {
  process.setSourceMapsEnabled(false); // a Node before 22.14: no maps, as source-map-support would leave them
}
deferTypeScript();

/** Puts `exports` in Node's module cache as the module at `path`, which a `require` of it then returns. */
function standIn(path, exports) {
  const module = new nodeModule.Module(path);
  module.filename = path;
  module.loaded = true;
  module.exports = exports;
  require.cache[path] = module;
}

function deferTypeScript() {
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
  standIn(
    shimPath,
    new Proxy(
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
    ),
  );
}
