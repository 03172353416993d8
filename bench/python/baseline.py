"""The Python baseline of scripts/bench: what a function written in Python
pays for a cold start. At import, as a Lambda Python handler module would, it
builds boto3 DynamoDB and SESv2 clients (the clients the Rust functions build,
without their warm-up request); then it serves the Lambda Runtime API the bench
serves on loopback, answering every event 200, with the standard library only.
"""

import json
import os
import urllib.request

import boto3

dynamodb = boto3.client("dynamodb")
ses = boto3.client("sesv2")

API = "http://%s/2018-06-01/runtime/invocation/" % os.environ["AWS_LAMBDA_RUNTIME_API"]
ANSWER = json.dumps({"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "Hello world"}).encode()


def main():
    while True:
        with urllib.request.urlopen(API + "next") as event:
            request_id = event.headers["Lambda-Runtime-Aws-Request-Id"]
            event.read()
        answer = urllib.request.Request(API + request_id + "/response", data=ANSWER, method="POST")
        with urllib.request.urlopen(answer) as done:
            done.read()


if __name__ == "__main__":
    main()
