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
import * as nodeModule from "node:module";
import process from "node:process";

nodeModule.enableCompileCache?.();
await import("tsx");
process.setSourceMapsEnabled(false);
