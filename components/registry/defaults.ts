/** Defaults of an ECR registry, written once: the config contract reads them too. */
export const ecrDefaults = { scanOnPush: true, keepTaggedImages: 30, expireUntaggedAfterDays: 7 } as const;
