import Foundation
import KVStore
import NIOCore
import ObjectStore
import S3
import Synchronization
import TestSupport
import Testing

func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

extension Entry {
    var text: String { String(buffer: self.value) }
}
