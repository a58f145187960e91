#!/usr/bin/env python3
"""Prepares a moto_server to check SigV4 signatures, for the signature tests.

moto accepts any credentials until authentication is switched on, and then only IAM access keys
created inside it. This creates an IAM user allowed s3:*, an access key for it and a bucket, then
switches authentication on for every later request (POST /moto-api/reset-auth with 0).

Usage: moto-auth-setup.py ENDPOINT BUCKET
Prints ACCESS_KEY=... and SECRET_KEY=... lines for the test command.
"""
import json
import sys
import urllib.request

import boto3

endpoint, bucket = sys.argv[1], sys.argv[2]
session = dict(endpoint_url=endpoint, region_name="us-east-1",
               aws_access_key_id="setup", aws_secret_access_key="setup")

iam = boto3.client("iam", **session)
iam.create_user(UserName="s3kv-test")
iam.put_user_policy(
    UserName="s3kv-test",
    PolicyName="s3-all",
    PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }),
)
key = iam.create_access_key(UserName="s3kv-test")["AccessKey"]
boto3.client("s3", **session).create_bucket(Bucket=bucket)

# Not form-encoded, or moto reads an empty body.
request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})
with urllib.request.urlopen(request, timeout=10) as response:
    assert response.status == 200, response.status

print(f"ACCESS_KEY={key['AccessKeyId']}")
print(f"SECRET_KEY={key['SecretAccessKey']}")
