import PropertyBased

/// Generators of the text that breaks code which treats keys as Swift `String`s: canonically
/// equivalent pairs (NFC and NFD), lone combining marks next to `/` and `.`, scalars of every
/// UTF-8 length, grapheme clusters that span several scalars, and the 512-byte key limit.
///
/// Swift compares `String`s by canonical equivalence and iterates them by `Character`; object
/// stores compare bytes. Every piece here is one on which the two disagree, or a neighbour of one.
public enum HostileText {
    /// Fragments names are built from.
    public static let pieces: [String] = [
        "\u{E9}", "e\u{301}",  // é, precomposed and decomposed
        "\u{301}", "\u{308}", "\u{20DD}",  // lone combining marks
        "/", "/\u{301}", "\u{301}/", ".", "..", ".\u{301}", "/.", "./",
        "\u{C5}", "A\u{30A}", "\u{212B}",  // Å three ways
        "\u{D55C}", "\u{1112}\u{1161}\u{11AB}",  // 한, precomposed and as conjoining jamo
        "\u{FB01}", "fi",  // ligature and letters
        "a", "b", "z", "A", "0", "-", "_", "~", " ", "%", "+", "'",
        "\u{FF}", "\u{100}", "\u{7FF}", "\u{800}", "\u{FFFD}", "\u{FFFF}",  // UTF-8 length boundaries
        "\u{10000}", "\u{1F600}", "\u{1F44D}\u{1F3FD}", "\u{1F1FA}\u{1F1F8}", "\u{10FFFF}",  // 4-byte, clusters
        "\u{200D}", "\u{FE0F}", "\u{2028}",
        "\u{65E5}\u{672C}",
    ]

    /// One fragment.
    public static var piece: Generator<String, Shrink.None<String?>> {
        Gen<String?>.element(of: pieces).map { $0! }
    }

    /// A name of 1 to `pieces` fragments.
    public static func name(pieces count: ClosedRange<Int> = 1...8) -> Generator<String, some SendableSequenceType> {
        piece.array(of: count).map { $0.joined() }
    }

    /// Several names, some of them canonically equivalent to others but never equal in bytes.
    public static func names(_ count: ClosedRange<Int> = 2...10) -> Generator<[String], some SendableSequenceType> {
        name().array(of: count).map { names in
            var seen: Set<[UInt8]> = []
            return names.filter { seen.insert(Array($0.utf8)).inserted }
        }
    }

    /// Names around a byte limit: fragments repeated up to just under, at and just over `limit`
    /// bytes, so a multi-byte scalar straddles the boundary.
    public static func nearLimit(_ limit: Int) -> Generator<String, some SendableSequenceType> {
        zip(piece, Gen.int(in: -4...4)).map { fragment, offset in
            let target = max(1, limit + offset)
            var text = ""
            while text.utf8.count + fragment.utf8.count <= target { text += fragment }
            while text.utf8.count < target { text += "a" }
            return text
        }
    }
}
