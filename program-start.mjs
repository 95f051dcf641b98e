// Loaded before the Pulumi SDK and the program (Pulumi.yaml's nodeargs, `--import`): Node's
// on-disk compile cache, so that the SDK's, the providers' and the program's JavaScript is
// compiled once per machine rather than at every `pulumi up` and preview. Loading the SDK and the
// program took 1.6 s without it and 1.3 s with it (docs/benchmarks.md). Node checks each entry
// against the source and its own version; a Node without the API runs as before.
import * as nodeModule from "node:module";

nodeModule.enableCompileCache?.();
