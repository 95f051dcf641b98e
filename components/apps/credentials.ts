/**
 * What a credential looks like, for refusing one in plain env (the config contract) and in
 * ConfigMaps and container env (the policy pack): one definition for both.
 */

/** Names such as API_KEY, DB_PASSWORD, GITHUB_TOKEN, CLIENT_SECRET, AWS_CREDENTIALS. */
const credentialName = /(^|_)(KEY|TOKEN|PASSWORD|PASSWD|PWD|SECRET|CREDENTIALS?|PASSPHRASE)$/i;

/** Values with the shape of well-known credentials: provider key prefixes and PEM private keys. */
const credentialValue = [
  /^sk_(live|test)_[0-9A-Za-z]{8,}/, // Stripe
  /^(AKIA|ASIA)[0-9A-Z]{16}$/, // AWS access key id
  /^gh[pousr]_[0-9A-Za-z]{20,}/, // GitHub
  /^xox[abprs]-[0-9A-Za-z-]{10,}/, // Slack
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
];

/** Whether an environment variable's name says it holds a credential. */
export const isCredentialName = (name: string): boolean => credentialName.test(name);

/** Whether a value has the shape of a well-known credential. */
export const isCredentialValue = (value: string): boolean => credentialValue.some((pattern) => pattern.test(value));
