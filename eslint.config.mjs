import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["bin/", "node_modules/", "services/", "coverage/", ".flotilla/"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Components register resources for their side effects; `new X(...)` without a binding is the idiom.
      "no-new": "off",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      eqeqeq: "error",
      // Every `pulumi up` and preview loads what the program imports, dev's as well as prod's.
      "no-restricted-imports": [
        "error",
        {
          name: "@pulumi/aws",
          message: "Import the services used (`@pulumi/aws/ec2`, `@pulumi/aws/getPartition`): the package's index loads all of AWS, 0.2 s of every run.",
        },
      ],
    },
  },
  {
    // What `pulumi up` runs. The kubernetes SDK's index loads every API group's module (0.10-0.13 s
    // of every run); its groups load their kinds on first use. Examples and tests may use the index.
    files: ["index.ts", "stack.ts", "config/**/*.ts", "components/**/*.ts", "features/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          name: "@pulumi/kubernetes",
          allowTypeImports: true,
          message: "Import the API groups used (`@pulumi/kubernetes/core/v1`, `@pulumi/kubernetes/provider`): the package's index loads all of them at every run.",
        },
      ],
    },
  },
  {
    // Tests reach into registered resources' inputs, which are untyped JSON.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
