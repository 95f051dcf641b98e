import type * as pulumi from "@pulumi/pulumi";

/** What a client needs to push to (or pull from) a registry; the password is a secret Output. */
export interface RegistryCredentials {
  readonly server: pulumi.Input<string>;
  readonly username: pulumi.Input<string>;
  readonly password: pulumi.Input<string>;
}
