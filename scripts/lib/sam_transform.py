"""Prints a SAM template transformed to plain CloudFormation (JSON), offline, with the same SAM translator and
managed-policy map that cfn-lint uses. Used by the IAM checks: the policies they read are the ones SAM will
create, policy templates (DynamoDBCrudPolicy, ...) expanded.

usage: python3 sam_transform.py TEMPLATE [REGION]"""
import json
import sys

from cfnlint.decode import decode
from cfnlint.template.transforms._sam import Transform


def main() -> int:
    filename = sys.argv[1]
    region = sys.argv[2] if len(sys.argv) > 2 else "us-east-1"
    template, matches = decode(filename)
    if matches or template is None:
        print("\n".join(str(m) for m in matches) or "cannot decode template", file=sys.stderr)
        return 2
    transform = Transform(filename, template, region)
    errors = transform.transform_template()
    if errors:
        print("\n".join(str(m) for m in errors), file=sys.stderr)
        return 3
    json.dump(transform.template(), sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
