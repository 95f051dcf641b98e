/**
 * Flotilla's policy pack: `pulumi preview --policy-pack policy`. Each policy encodes a promise
 * the components make, so a change that breaks one fails the preview instead of reaching a cluster.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("flotilla", { policies });
