"""Prints SAM templates transformed to plain CloudFormation, offline, with the same SAM translator and
managed-policy map that cfn-lint uses: one JSON array, a template per argument, in order. Used by the IAM checks:
the policies they read are the ones SAM will create, policy templates (DynamoDBCrudPolicy, ...) expanded.

usage: python3 sam_transform.py TEMPLATE [TEMPLATE...]   (region: SAM_TRANSFORM_REGION, default us-east-1)"""
import json
import os
import sys

from cfnlint.decode import decode
from cfnlint.template.transforms._sam import Transform


def transformed(filename: str, region: str):
    template, matches = decode(filename)
    if matches or template is None:
        raise ValueError(f"{filename}: " + ("\n".join(str(m) for m in matches) or "cannot decode template"))
    transform = Transform(filename, template, region)
    errors = transform.transform_template()
    if errors:
        raise ValueError(f"{filename}: " + "\n".join(str(m) for m in errors))
    return transform.template()


def main() -> int:
    region = os.environ.get("SAM_TRANSFORM_REGION", "us-east-1")
    try:
        templates = [transformed(filename, region) for filename in sys.argv[1:]]
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    json.dump(templates, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
