import * as corev1 from "@pulumi/kubernetes/core/v1";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { createHash } from "node:crypto";
import { databaseDefaults as d } from "./defaults";

export interface PluginCertificatesArgs {
  /** The operator's namespace, where the plugin runs and the operator reads the Secrets. */
  readonly namespace: pulumi.Input<string>;
  /** Hours a leaf certificate is valid. @default 8760 (a year) */
  readonly validityHours?: number;
  /** Hours before expiry from which an `up` issues a new one. @default 720 (30 days) */
  readonly renewBeforeHours?: number;
  readonly labels?: Record<string, string>;
}

/**
 * The TLS certificates through which the CloudNativePG operator and the Barman Cloud plugin trust
 * each other (mutual TLS on the plugin's gRPC port), in the Secrets the plugin's Service names. The
 * plugin's chart asks cert-manager for them; the stack makes them itself so that backups need no
 * other controller: an ECDSA CA of the stack's, a server certificate for the plugin's Service and a
 * client certificate for the operator. The keys are Pulumi secrets. An `up` within
 * `renewBeforeHours` of a certificate's expiry issues a new one; `rotation` changes with them, for
 * the plugin's pods to restart on.
 */
export class PluginCertificates extends pulumi.ComponentResource {
  /** Changes whenever a certificate does. */
  readonly rotation: pulumi.Output<string>;

  constructor(name: string, args: PluginCertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:data:PluginCertificates", name, {}, opts);
    const child = { parent: this };
    const key = (suffix: string) => new tls.PrivateKey(`${name}-${suffix}`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, child);
    const caKey = key("ca");
    const renewBefore = args.renewBeforeHours ?? 720;
    const ca = new tls.SelfSignedCert(
      `${name}-ca`,
      {
        privateKeyPem: caKey.privateKeyPem,
        subject: { commonName: `${d.backups.pluginService} CA` },
        isCaCertificate: true,
        validityPeriodHours: 10 * 8760,
        earlyRenewalHours: renewBefore,
        allowedUses: ["cert_signing", "crl_signing"],
      },
      child,
    );
    const namespace = pulumi.output(args.namespace);
    const leaf = (suffix: string, commonName: pulumi.Input<string>, uses: string[], dnsNames?: pulumi.Input<string[]>) => {
      const leafKey = key(suffix);
      const request = new tls.CertRequest(`${name}-${suffix}`, { privateKeyPem: leafKey.privateKeyPem, subject: { commonName }, dnsNames }, child);
      const cert = new tls.LocallySignedCert(
        `${name}-${suffix}`,
        {
          certRequestPem: request.certRequestPem,
          caPrivateKeyPem: caKey.privateKeyPem,
          caCertPem: ca.certPem,
          validityPeriodHours: args.validityHours ?? 8760,
          earlyRenewalHours: renewBefore,
          allowedUses: ["digital_signature", "key_encipherment", ...uses],
        },
        child,
      );
      return { key: leafKey, cert };
    };
    const service = d.backups.pluginService;
    const server = leaf(
      "server",
      service,
      ["server_auth"],
      namespace.apply((ns) => [service, `${service}.${ns}`, `${service}.${ns}.svc`, `${service}.${ns}.svc.cluster.local`]),
    );
    const client = leaf("client", `${service}-client`, ["client_auth"]);
    for (const [secretName, pair] of [
      [d.backups.serverTlsSecret, server],
      [d.backups.clientTlsSecret, client],
    ] as const) {
      new corev1.Secret(
        `${name}-${secretName}`,
        {
          metadata: { name: secretName, namespace: args.namespace, labels: args.labels },
          type: "kubernetes.io/tls",
          stringData: { "tls.crt": pair.cert.certPem, "tls.key": pair.key.privateKeyPem, "ca.crt": ca.certPem },
        },
        child,
      );
    }
    this.rotation = pulumi
      .all([ca.certPem, server.cert.certPem, client.cert.certPem])
      .apply((pems) => createHash("sha256").update(pems.join("")).digest("hex").slice(0, 16));
    this.registerOutputs({ rotation: this.rotation });
  }
}
