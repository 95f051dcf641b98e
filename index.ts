/**
 * Entry point of `pulumi up`: validate the stack's config (a bad value stops here, before any
 * resource exists), then register the stack.
 */
import { loadConfig } from "./config/load";
import { deploy } from "./stack";

// A cluster stack (`flotilla:scope: cluster`) makes only the cluster; app stacks reference it.
// The project directory is this file's: every language host agrees on it, where older ones do not
// pass pulumi.runtime.getRootDirectory() on.
// (A promise of the outputs: the region is asked about its zones before anything is registered.)
export = deploy(loadConfig(), __dirname);
