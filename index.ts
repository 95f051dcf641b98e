/**
 * Entry point of `pulumi up`: validate the stack's config (a bad value stops here, before any
 * resource exists), then register the stack.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./config/load";
import { deployStack } from "./stack";

const outputs = deployStack(loadConfig(), pulumi.runtime.getRootDirectory());

export const namespace = outputs.namespace;
export const services = outputs.services;
export const kubeconfig = outputs.kubeconfig;
export const monitoring = outputs.monitoring;
