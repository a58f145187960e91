import Hummingbird

/// The S3 API operation a request asks for, by S3's name (`PutObject`, `ListObjectsV2`): the
/// `route` label of the HTTP metrics and the access log. A client can only pick one of these
/// names, so it cannot create metric series at will.
enum S3Operation {
    static func name(_ method: HTTPRequest.Method, _ s3: S3Request, copySource: Bool) -> String {
        guard s3.bucket != nil else { return method == .get ? "ListBuckets" : "Other" }
        guard s3.key != nil else {
            switch method {
            case .put: return "CreateBucket"
            case .head: return "HeadBucket"
            case .delete: return "DeleteBucket"
            case .post where s3.has("delete"): return "DeleteObjects"
            case .get where s3.has("location"): return "GetBucketLocation"
            case .get where s3.has("versioning"): return "GetBucketVersioning"
            case .get where s3.has("uploads"): return "ListMultipartUploads"
            case .get where s3.value("list-type") == "2": return "ListObjectsV2"
            case .get: return "ListObjects"
            default: return "Other"
            }
        }
        switch method {
        case .post where s3.has("uploads"): return "CreateMultipartUpload"
        case .post where s3.has("uploadId"): return "CompleteMultipartUpload"
        case .put where s3.has("uploadId"): return copySource ? "UploadPartCopy" : "UploadPart"
        case .delete where s3.has("uploadId"): return "AbortMultipartUpload"
        case .get where s3.has("uploadId"): return "ListParts"
        case .put: return copySource ? "CopyObject" : "PutObject"
        case .get: return "GetObject"
        case .head: return "HeadObject"
        case .delete: return "DeleteObject"
        default: return "Other"
        }
    }
}
