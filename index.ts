/**
 * Entry point of `pulumi up`: validate the stack's config (a bad value stops here, before any
 * resource exists), then register the stack.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./config/load";
import { deploy } from "./stack";

// A cluster stack (`flotilla:scope: cluster`) makes only the cluster; app stacks reference it.
export = deploy(loadConfig(), pulumi.runtime.getRootDirectory());
