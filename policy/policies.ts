import type { Policies } from "@pulumi/policy";
import { awsResourcesTagged, ecrScanAndImmutableTags, eksEncryptionAndLogs, eksEndpointAllowlist, nodesRequireImdsv2, protectedInProd } from "./aws";
import {
  disruptionBudgetForReplicas,
  imagesByDigest,
  namespacePodSecurity,
  networkPolicyPerNamespace,
  noCredentialsInPlainText,
  noSystemNamespaces,
  podSecurityRestricted,
  readOnlyRootFilesystem,
  requestsAndLimits,
} from "./kubernetes";

/** Every policy of the pack, apart from the pack itself so that tests load them without serving. */
export const policies: Policies = [
  podSecurityRestricted,
  namespacePodSecurity,
  readOnlyRootFilesystem,
  requestsAndLimits,
  imagesByDigest,
  noCredentialsInPlainText,
  noSystemNamespaces,
  networkPolicyPerNamespace,
  disruptionBudgetForReplicas,
  ecrScanAndImmutableTags,
  eksEncryptionAndLogs,
  eksEndpointAllowlist,
  nodesRequireImdsv2,
  awsResourcesTagged,
  protectedInProd,
];
