#!/usr/bin/env python3
"""Real S3 clients against `s3kv s3-server`: boto3 (with its current default integrity
settings), awscli, s3cmd and rclone, on the memory and the on-disk storage. Starts each server itself on a
free loopback port, stops it by PID, and compares bytes on every round trip.

Usage: scripts/s3-server-clients.py PATH-TO-s3kv
"""
import hashlib, os, shutil, socket, subprocess, sys, tempfile, time, urllib.error, urllib.request

import boto3, botocore
from botocore.config import Config

ACCESS, SECRET = "s3kv-clients", "s3kv-clients-secret"
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def error_code(call):
    try:
        call()
    except botocore.exceptions.ClientError as error:
        return error.response["Error"]["Code"]
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, storage, data_dir):
    port = free_port()
    env = dict(os.environ, S3_SERVER_PORT=str(port), S3_SERVER_STORAGE=storage, S3_SERVER_DATA_DIR=data_dir,
               S3_SERVER_ACCESS_KEY=ACCESS, S3_SERVER_SECRET_KEY=SECRET)
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([binary, "s3-server"], env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
        except urllib.error.HTTPError:
            return process, f"http://127.0.0.1:{port}", log
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    log.seek(0)
    sys.exit("s3-server did not start:\n" + log.read().decode())


def boto3_round_trips(endpoint):
    config = Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1})
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS, aws_secret_access_key=SECRET,
                      region_name="us-east-1", config=config)
    s3.create_bucket(Bucket="clients")
    check(error_code(lambda: s3.create_bucket(Bucket="clients")) == "BucketAlreadyOwnedByYou", "boto3: a second CreateBucket is BucketAlreadyOwnedByYou")
    check(error_code(lambda: s3.create_bucket(Bucket="Bad_Name")) == "InvalidBucketName", "boto3: an invalid bucket name is InvalidBucketName")
    body = os.urandom(300_000)
    key = "dir/é x+y&<z>"
    put = s3.put_object(Bucket="clients", Key=key, Body=body, Metadata={"color": "blue"}, ContentType="text/plain")
    check(put["ETag"].strip('"') == hashlib.md5(body).hexdigest(), "boto3: PutObject's ETag is the MD5 of the body")
    got = s3.get_object(Bucket="clients", Key=key)
    check(got["Body"].read() == body and got["Metadata"] == {"color": "blue"} and got["ContentType"] == "text/plain",
          "boto3: GetObject returns the bytes, metadata and content type")
    ranged = s3.get_object(Bucket="clients", Key=key, Range="bytes=10-19")
    check(ranged["Body"].read() == body[10:20] and ranged["ContentRange"] == f"bytes 10-19/{len(body)}", "boto3: a Range GET is 206 with the bytes")
    check(error_code(lambda: s3.get_object(Bucket="clients", Key=key, Range=f"bytes={len(body)}-")) == "InvalidRange", "boto3: a range past the end is InvalidRange")
    check(error_code(lambda: s3.get_object(Bucket="clients", Key=key, IfNoneMatch=put["ETag"])) == "304", "boto3: If-None-Match on the ETag is 304")
    check(error_code(lambda: s3.get_object(Bucket="clients", Key=key, IfMatch='"0"')) == "PreconditionFailed", "boto3: a stale If-Match is 412")
    nfd = "dir/e\u0301 x+y&<z>"
    s3.put_object(Bucket="clients", Key=nfd, Body=b"decomposed")
    check(s3.get_object(Bucket="clients", Key=key)["Body"].read() == body, "boto3: NFC and NFD names are different objects")
    for i in range(5):
        s3.put_object(Bucket="clients", Key=f"many/{i}", Body=str(i).encode())
    listing = s3.list_objects_v2(Bucket="clients", Delimiter="/")
    check([p["Prefix"] for p in listing.get("CommonPrefixes", [])] == ["dir/", "many/"], "boto3: ListObjectsV2 groups common prefixes")
    page = s3.list_objects_v2(Bucket="clients", Prefix="many/", MaxKeys=2)
    rest = s3.list_objects_v2(Bucket="clients", Prefix="many/", ContinuationToken=page["NextContinuationToken"])
    check([o["Key"] for o in page["Contents"] + rest["Contents"]] == [f"many/{i}" for i in range(5)], "boto3: continuation tokens page through every key once")
    names = [o["Key"] for o in s3.list_objects(Bucket="clients", Prefix="dir/")["Contents"]]
    check(names == sorted([key, nfd], key=lambda n: n.encode()), "boto3: ListObjects (V1, url-encoded) returns the exact names in byte order")
    check(error_code(lambda: s3.put_object(Bucket="clients", Key="many/0", Body=b"x", IfNoneMatch="*")) == "PreconditionFailed", "boto3: If-None-Match: * on an existing key is 412")
    current = s3.head_object(Bucket="clients", Key="many/0")["ETag"]
    s3.put_object(Bucket="clients", Key="many/0", Body=b"swapped", IfMatch=current)
    check(error_code(lambda: s3.put_object(Bucket="clients", Key="many/0", Body=b"again", IfMatch=current)) == "PreconditionFailed", "boto3: If-Match compare-and-swap succeeds once")
    copy = s3.copy_object(Bucket="clients", Key="copy", CopySource={"Bucket": "clients", "Key": key})
    check(copy["CopyObjectResult"]["ETag"] == put["ETag"] and s3.head_object(Bucket="clients", Key="copy")["Metadata"] == {"color": "blue"},
          "boto3: CopyObject keeps the bytes and metadata")
    deleted = s3.delete_objects(Bucket="clients", Delete={"Objects": [{"Key": f"many/{i}"} for i in range(5)]})
    check(len(deleted["Deleted"]) == 5, "boto3: DeleteObjects reports each key")
    check(error_code(lambda: s3.get_object(Bucket="clients", Key="many/1")) == "NoSuchKey", "boto3: a deleted key is NoSuchKey")
    check(error_code(lambda: s3.delete_bucket(Bucket="clients")) == "BucketNotEmpty", "boto3: deleting a bucket with objects is BucketNotEmpty")
    wrong = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS, aws_secret_access_key="wrong", region_name="us-east-1", config=config)
    check(error_code(lambda: wrong.list_buckets()) == "SignatureDoesNotMatch", "boto3: a wrong secret is SignatureDoesNotMatch")
    unknown = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="nobody", aws_secret_access_key="x", region_name="us-east-1", config=config)
    check(error_code(lambda: unknown.list_buckets()) == "InvalidAccessKeyId", "boto3: an unknown key is InvalidAccessKeyId")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "clients", "Key": "copy"}, ExpiresIn=60)
    check(urllib.request.urlopen(url).read() == body, "boto3: a presigned GET URL serves the object")
    try:
        urllib.request.urlopen(f"{endpoint}/clients/copy")
        check(False, "an unsigned request is refused")
    except urllib.error.HTTPError as error:
        check(error.code == 403 and b"<Code>AccessDenied</Code>" in error.read(), "an unsigned request is 403 AccessDenied")
    upload = s3.create_multipart_upload(Bucket="clients", Key="parts")["UploadId"]
    first, second = os.urandom(5 << 20), os.urandom(1000)
    e1 = s3.upload_part(Bucket="clients", Key="parts", UploadId=upload, PartNumber=1, Body=first)["ETag"]
    e2 = s3.upload_part(Bucket="clients", Key="parts", UploadId=upload, PartNumber=2, Body=second)["ETag"]
    check([u["UploadId"] for u in s3.list_multipart_uploads(Bucket="clients").get("Uploads", [])] == [upload], "boto3: ListMultipartUploads shows the upload")
    check([p["PartNumber"] for p in s3.list_parts(Bucket="clients", Key="parts", UploadId=upload)["Parts"]] == [1, 2], "boto3: ListParts lists the parts")
    check(error_code(lambda: s3.get_object(Bucket="clients", Key="parts")) == "NoSuchKey", "boto3: an upload is invisible before it completes")
    check(error_code(lambda: s3.complete_multipart_upload(Bucket="clients", Key="parts", UploadId=upload,
          MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]})) == "InvalidPartOrder", "boto3: parts out of order are InvalidPartOrder")
    done = s3.complete_multipart_upload(Bucket="clients", Key="parts", UploadId=upload,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    multipart_tag = '"' + hashlib.md5(hashlib.md5(first).digest() + hashlib.md5(second).digest()).hexdigest() + '-2"'
    check(done["ETag"] == multipart_tag and s3.head_object(Bucket="clients", Key="parts")["ETag"] == multipart_tag,
          "boto3: a multipart object's ETag is S3's MD5-of-MD5s-N")
    copied = s3.create_multipart_upload(Bucket="clients", Key="part-copy")["UploadId"]
    c1 = s3.upload_part_copy(Bucket="clients", Key="part-copy", UploadId=copied, PartNumber=1,
                             CopySource={"Bucket": "clients", "Key": "parts"}, CopySourceRange="bytes=0-5242879")["CopyPartResult"]["ETag"]
    c2 = s3.upload_part_copy(Bucket="clients", Key="part-copy", UploadId=copied, PartNumber=2,
                             CopySource={"Bucket": "clients", "Key": key})["CopyPartResult"]["ETag"]
    s3.complete_multipart_upload(Bucket="clients", Key="part-copy", UploadId=copied,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": c1}, {"PartNumber": 2, "ETag": c2}]})
    check(s3.get_object(Bucket="clients", Key="part-copy")["Body"].read() == first + body, "boto3: UploadPartCopy (with a range) builds an object")
    check(s3.get_object(Bucket="clients", Key="parts")["Body"].read() == first + second, "boto3: a completed multipart upload reads back whole")
    check(s3.list_multipart_uploads(Bucket="clients").get("Uploads", []) == [], "boto3: a completed upload leaves no upload behind")
    aborted = s3.create_multipart_upload(Bucket="clients", Key="gone")["UploadId"]
    s3.upload_part(Bucket="clients", Key="gone", UploadId=aborted, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket="clients", Key="gone", UploadId=aborted)
    check(error_code(lambda: s3.list_parts(Bucket="clients", Key="gone", UploadId=aborted)) == "NoSuchUpload", "boto3: an aborted upload is NoSuchUpload")
    for name in [key, nfd, "copy", "parts", "part-copy"]:
        s3.delete_object(Bucket="clients", Key=name)
    s3.delete_bucket(Bucket="clients")
    check("clients" not in [b["Name"] for b in s3.list_buckets()["Buckets"]], "boto3: DeleteBucket removes an empty bucket")


def awscli_round_trips(endpoint, scratch):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1")
    def aws(*args):
        return subprocess.run(["aws", "--endpoint-url", endpoint, "s3", *args], env=env, capture_output=True, text=True, timeout=120)
    tree = os.path.join(scratch, "tree")
    os.makedirs(os.path.join(tree, "sub"))
    files = {"a.txt": os.urandom(1000), "sub/b.bin": os.urandom(70_000), "sub/é.txt": b"accented"}
    for name, data in files.items():
        with open(os.path.join(tree, name), "wb") as f:
            f.write(data)
    check(aws("mb", "s3://cli").returncode == 0, "awscli: s3 mb")
    check(aws("sync", tree, "s3://cli/tree").returncode == 0, "awscli: s3 sync up")
    listing = aws("ls", "--recursive", "s3://cli").stdout
    check(all(f"tree/{name}" in listing for name in files), "awscli: s3 ls lists the synced tree")
    back = os.path.join(scratch, "back")
    check(aws("sync", "s3://cli/tree", back).returncode == 0, "awscli: s3 sync down")
    check(all(open(os.path.join(back, n), "rb").read() == d for n, d in files.items()), "awscli: the tree comes back byte for byte")
    check(aws("cp", "s3://cli/tree/a.txt", os.path.join(scratch, "a.copy")).returncode == 0
          and open(os.path.join(scratch, "a.copy"), "rb").read() == files["a.txt"], "awscli: s3 cp down")
    big = os.path.join(scratch, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(9_000_000))
    check(aws("cp", big, "s3://cli/big.bin").returncode == 0, "awscli: s3 cp of 9 MB (a multipart upload)")
    check(aws("cp", "s3://cli/big.bin", big + ".back").returncode == 0
          and open(big + ".back", "rb").read() == open(big, "rb").read(), "awscli: the multipart object comes back byte for byte")
    check(aws("rm", "--recursive", "s3://cli").returncode == 0 and aws("rb", "s3://cli").returncode == 0, "awscli: s3 rm and rb")


def write_tree(root, files):
    for name, data in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def same_tree(root, files):
    found = {os.path.relpath(os.path.join(d, f), root) for d, _, names in os.walk(root) for f in names}
    return found == set(files) and all(open(os.path.join(root, n), "rb").read() == d for n, d in files.items())


def s3cmd_round_trips(endpoint, scratch):
    host = endpoint.removeprefix("http://")
    config = os.path.join(scratch, "s3cmd.cfg")
    with open(config, "w") as f:
        f.write(f"[default]\naccess_key = {ACCESS}\nsecret_key = {SECRET}\nhost_base = {host}\nhost_bucket = {host}\n"
                "use_https = False\nsignature_v2 = False\nbucket_location = us-east-1\n")
    def s3cmd(*args):
        return subprocess.run(["s3cmd", "-c", config, "--no-progress", *args], capture_output=True, text=True, timeout=120)
    files = {"one.txt": os.urandom(2000), "dir/two.bin": os.urandom(100_000), "dir/ü.txt": b"umlaut"}
    tree = os.path.join(scratch, "s3cmd-tree")
    write_tree(tree, files)
    made = s3cmd("mb", "s3://s3cmd")
    check(made.returncode == 0, "s3cmd: mb" + ("" if made.returncode == 0 else ": " + made.stderr[-300:]))
    single = os.path.join(tree, "one.txt")
    put = s3cmd("put", single, "s3://s3cmd/single.txt")
    check(put.returncode == 0, "s3cmd: put" + ("" if put.returncode == 0 else ": " + put.stderr[-300:]))
    got = s3cmd("get", "s3://s3cmd/single.txt", os.path.join(scratch, "single.back"))
    check(got.returncode == 0 and open(os.path.join(scratch, "single.back"), "rb").read() == files["one.txt"], "s3cmd: get returns the bytes")
    large = os.path.join(scratch, "s3cmd-large.bin")
    with open(large, "wb") as f:
        f.write(os.urandom(11 << 20))
    parts = s3cmd("put", "--multipart-chunk-size-mb=5", large, "s3://s3cmd/large.bin")
    check(parts.returncode == 0, "s3cmd: put of 11 MiB in 5 MiB parts" + ("" if parts.returncode == 0 else ": " + parts.stderr[-300:]))
    back = s3cmd("get", "s3://s3cmd/large.bin", large + ".back")
    check(back.returncode == 0 and open(large + ".back", "rb").read() == open(large, "rb").read(), "s3cmd: the multipart object comes back byte for byte")
    synced = s3cmd("sync", tree + "/", "s3://s3cmd/tree/")
    check(synced.returncode == 0, "s3cmd: sync up" + ("" if synced.returncode == 0 else ": " + synced.stderr[-300:]))
    listing = s3cmd("ls", "--recursive", "s3://s3cmd").stdout
    check(all(f"s3://s3cmd/tree/{name}" in listing for name in files) and "s3://s3cmd/large.bin" in listing, "s3cmd: ls lists every object")
    down = os.path.join(scratch, "s3cmd-down")
    os.makedirs(down)
    check(s3cmd("sync", "s3://s3cmd/tree/", down + "/").returncode == 0 and same_tree(down, files), "s3cmd: sync down returns the tree byte for byte")
    deleted = s3cmd("del", "--recursive", "--force", "s3://s3cmd")
    check(deleted.returncode == 0 and s3cmd("ls", "--recursive", "s3://s3cmd").stdout.strip() == "", "s3cmd: del removes every object")
    check(s3cmd("rb", "s3://s3cmd").returncode == 0, "s3cmd: rb")


def rclone_round_trips(endpoint, scratch):
    env = dict(os.environ, RCLONE_CONFIG_OWN_TYPE="s3", RCLONE_CONFIG_OWN_PROVIDER="Other", RCLONE_CONFIG_OWN_ENDPOINT=endpoint,
               RCLONE_CONFIG_OWN_ACCESS_KEY_ID=ACCESS, RCLONE_CONFIG_OWN_SECRET_ACCESS_KEY=SECRET, RCLONE_CONFIG_OWN_REGION="us-east-1",
               RCLONE_CONFIG_OWN_FORCE_PATH_STYLE="true", RCLONE_CONFIG=os.path.join(scratch, "rclone.conf"))
    # rclone's AWS SDK cannot load a CA bundle into rclone's own transport, and the endpoint is
    # plain HTTP: a bundle set for other tools (AWS_CA_BUNDLE) would only stop it.
    env.pop("AWS_CA_BUNDLE", None)
    open(env["RCLONE_CONFIG"], "w").close()
    def rclone(*args):
        return subprocess.run(["rclone", "--retries", "1", "--low-level-retries", "1", *args], env=env, capture_output=True, text=True, timeout=180)
    files = {"a.txt": os.urandom(3000), "nested/deep/b.bin": os.urandom(200_000), "nested/ß c.txt": b"sharp s", "big.bin": os.urandom(12 << 20)}
    tree = os.path.join(scratch, "rclone-tree")
    write_tree(tree, files)
    made = rclone("mkdir", "own:rclone")
    check(made.returncode == 0, "rclone: mkdir (CreateBucket)" + ("" if made.returncode == 0 else ": " + made.stderr[-300:]))
    copied = rclone("copy", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", tree, "own:rclone/tree")
    check(copied.returncode == 0, "rclone: copy up (12 MiB in 5 MiB parts)" + ("" if copied.returncode == 0 else ": " + copied.stderr[-500:]))
    checked = rclone("check", tree, "own:rclone/tree")
    check(checked.returncode == 0, "rclone: check finds every file equal" + ("" if checked.returncode == 0 else ": " + checked.stderr[-500:]))
    listing = rclone("ls", "own:rclone").stdout
    check(all(f"tree/{name}" in listing for name in files), "rclone: ls lists every object")
    os.remove(os.path.join(tree, "a.txt"))
    del files["a.txt"]
    files["new.txt"] = b"added after the copy"
    write_tree(tree, {"new.txt": files["new.txt"]})
    synced = rclone("sync", tree, "own:rclone/tree")
    check(synced.returncode == 0 and "tree/a.txt" not in rclone("ls", "own:rclone").stdout, "rclone: sync up adds the new file and deletes the removed one")
    down = os.path.join(scratch, "rclone-down")
    check(rclone("sync", "own:rclone/tree", down).returncode == 0 and same_tree(down, files), "rclone: sync down returns the tree byte for byte")
    check(rclone("check", down, "own:rclone/tree").returncode == 0, "rclone: check after the round trip")
    purged = rclone("purge", "own:rclone")
    check(purged.returncode == 0, "rclone: purge removes the objects and the bucket" + ("" if purged.returncode == 0 else ": " + purged.stderr[-300:]))


def main():
    binary = sys.argv[1]
    for storage in ["memory", "local"]:
        scratch = tempfile.mkdtemp(prefix="s3kv-clients-")
        process, endpoint, log = start(binary, storage, os.path.join(scratch, "data"))
        print(f"-- s3-server on {storage} at {endpoint}")
        try:
            boto3_round_trips(endpoint)
            awscli_round_trips(endpoint, scratch)
            s3cmd_round_trips(endpoint, scratch)
            rclone_round_trips(endpoint, scratch)
        finally:
            process.terminate()
            process.wait(timeout=20)
            if failures:
                log.seek(0)
                print(log.read().decode()[-4000:])
            shutil.rmtree(scratch, ignore_errors=True)
    if failures:
        sys.exit(f"{len(failures)} client checks failed")
    print("every client check passed")


if __name__ == "__main__":
    main()
