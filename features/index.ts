/**
 * The stack's features, in the order they deploy: the one list that the contract, the stack, the
 * policy pack and the teardown check read. A new feature is a folder beside these and a line here.
 */
import { databasesFeature } from "./databases";
import type { AnyFeature } from "./feature";
import { loggingFeature } from "./logging";
import { monitoringFeature } from "./monitoring";
import { tracingFeature } from "./tracing";

export const features = [monitoringFeature, loggingFeature, databasesFeature, tracingFeature] as const satisfies readonly AnyFeature[];
