import CAllocator

/// Settings of the C allocator for a server that moves large bodies.
enum MemoryAllocator {
    /// Allocations of this size or more get pages of their own, returned to the system when freed.
    static let mmapThreshold: Int32 = 4 << 20

    /// Fixes glibc's mmap threshold.
    ///
    /// glibc raises the threshold each time a large mmapped block is freed (up to 32 MiB), so
    /// after the first multipart part is sent, the following 8 MiB parts come from the heap
    /// arenas, where they stay resident after they are freed: a 1 GiB upload then peaked 74 MiB
    /// over idle instead of its 40 MiB budget. A fixed threshold turns the adjustment off; the
    /// same upload peaks at 42 MiB. At 4 MiB, parts (5 MiB at least) still get pages of their own,
    /// while the embedded store's 1 MiB file chunks reuse heap memory instead of faulting in
    /// fresh pages for each. Small allocations (every request's) are not affected.
    static func configure() {
        _ = allocator_set_mmap_threshold(Self.mmapThreshold)
    }
}
