import AsyncHTTPClient
import Foundation
import NIOHTTP1
import S3Protocol
import TestSupport
import Testing

/// Who may talk to the own S3 server: a request signed with the configured key, within
/// fifteen minutes of the server's clock, or a presigned URL within its expiry.
@Suite("SigV4 authentication on the own S3 server")
struct AuthenticationTests {
    @Test("a wrong secret, an unknown key, a skewed clock and no signature are refused with S3's codes")
    func refusals() async throws {
        try await ServerStorage.memory.withServer { server in
            var request = SignedRequest(method: .PUT, path: "/tests/guarded", body: [1, 2, 3])
            #expect(try await request.send(to: server).status == 200, "the right signature is accepted")

            request.credentials = AWSCredentials(accessKeyID: OwnS3Server.credentials.accessKeyID, secretAccessKey: "wrong")
            let wrongSecret = try await request.send(to: server)
            #expect(wrongSecret.status == 403 && wrongSecret.code == "SignatureDoesNotMatch", "\(wrongSecret.text)")

            request.credentials = AWSCredentials(accessKeyID: "nobody", secretAccessKey: OwnS3Server.credentials.secretAccessKey)
            let unknown = try await request.send(to: server)
            #expect(unknown.status == 403 && unknown.code == "InvalidAccessKeyId", "\(unknown.text)")

            for skew: TimeInterval in [-3600, 16 * 60, 3600] {
                var skewed = SignedRequest(method: .GET, path: "/tests/guarded")
                skewed.date = Date().addingTimeInterval(skew)
                let answer = try await skewed.send(to: server)
                #expect(answer.status == 403 && answer.code == "RequestTimeTooSkewed", "\(skew) s: \(answer.text)")
            }
            var slightly = SignedRequest(method: .GET, path: "/tests/guarded")
            slightly.date = Date().addingTimeInterval(-600)
            #expect(try await slightly.send(to: server).status == 200, "ten minutes off is within S3's fifteen")

            var unsigned = HTTPClientRequestFactory.plain(server.endpoint + "/tests/guarded")
            unsigned.method = .GET
            let anonymous = try await HTTPClientRequestFactory.send(unsigned)
            #expect(anonymous.status == 403 && anonymous.code == "AccessDenied")
            #expect(try await SignedRequest(method: .GET, path: "/tests/guarded").send(to: server).body == [1, 2, 3], "nothing was changed")
        }
    }

    @Test("a presigned URL works until it expires, then is AccessDenied; a changed path is SignatureDoesNotMatch")
    func presigned() async throws {
        try await ServerStorage.memory.withServer { server in
            _ = try await SignedRequest(method: .PUT, path: "/tests/shared", body: Array("shared".utf8)).send(to: server)
            let fresh = SignedRequest(method: .GET, path: "/tests/shared").presignedURL(server, expires: 300)
            let served = try await HTTPClientRequestFactory.send(HTTPClientRequestFactory.plain(fresh))
            #expect(served.status == 200 && served.body == Array("shared".utf8))

            var old = SignedRequest(method: .GET, path: "/tests/shared")
            old.date = Date().addingTimeInterval(-3600)
            let expired = try await HTTPClientRequestFactory.send(HTTPClientRequestFactory.plain(old.presignedURL(server, expires: 60)))
            #expect(expired.status == 403 && expired.code == "AccessDenied" && expired.text.contains("expired"), "\(expired.text)")

            let tampered = fresh.replacingOccurrences(of: "/tests/shared", with: "/tests/other")
            let changed = try await HTTPClientRequestFactory.send(HTTPClientRequestFactory.plain(tampered))
            #expect(changed.status == 403 && changed.code == "SignatureDoesNotMatch", "\(changed.text)")

            let tooLong = try await HTTPClientRequestFactory.send(
                HTTPClientRequestFactory.plain(SignedRequest(method: .GET, path: "/tests/shared").presignedURL(server, expires: 604_801))
            )
            #expect(tooLong.status == 400 && tooLong.code == "AuthorizationQueryParametersError", "\(tooLong.text)")
        }
    }
}
