/// A least-recently-used map bounded by the total cost of its values.
///
/// Nodes live in one array linked by index, so touching an entry moves two indices rather than
/// allocating; freed slots are reused. Not thread-safe: ``ValueCache`` guards each one with a lock.
struct LRUList<Key: Hashable, Value> {
    private struct Node {
        var key: Key
        var value: Value
        var cost: Int
        var newer: Int
        var older: Int
    }

    private var nodes: [Node?] = []
    private var free: [Int] = []
    private var index: [Key: Int] = [:]
    /// Most and least recently used nodes; -1 when empty.
    private var newest = -1
    private var oldest = -1

    let capacity: Int
    private(set) var totalCost = 0
    var count: Int { self.index.count }

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The value for `key`, which becomes the most recently used.
    mutating func value(for key: Key) -> Value? {
        guard let slot = self.index[key] else { return nil }
        self.moveToNewest(slot)
        return self.nodes[slot]!.value
    }

    /// Inserts or replaces `key`'s value, then evicts least recently used entries until the total
    /// cost fits. A value costing more than the whole capacity is not kept.
    /// - Returns: how many other entries were evicted.
    @discardableResult
    mutating func set(_ value: Value, for key: Key, cost: Int) -> Int {
        self.remove(key)
        guard cost <= self.capacity else { return 0 }
        let node = Node(key: key, value: value, cost: cost, newer: -1, older: self.newest)
        let slot: Int
        if let reused = self.free.popLast() {
            slot = reused
            self.nodes[slot] = node
        } else {
            slot = self.nodes.count
            self.nodes.append(node)
        }
        if self.newest >= 0 { self.nodes[self.newest]!.newer = slot }
        self.newest = slot
        if self.oldest < 0 { self.oldest = slot }
        self.index[key] = slot
        self.totalCost += cost

        var evicted = 0
        while self.totalCost > self.capacity, self.oldest >= 0, self.oldest != slot {
            self.remove(self.nodes[self.oldest]!.key)
            evicted += 1
        }
        return evicted
    }

    /// Removes `key`; returns whether it was present.
    @discardableResult
    mutating func remove(_ key: Key) -> Bool {
        guard let slot = self.index.removeValue(forKey: key) else { return false }
        self.unlink(slot)
        self.totalCost -= self.nodes[slot]!.cost
        self.nodes[slot] = nil
        self.free.append(slot)
        return true
    }

    private mutating func moveToNewest(_ slot: Int) {
        guard slot != self.newest else { return }
        self.unlink(slot)
        self.nodes[slot]!.older = self.newest
        self.nodes[slot]!.newer = -1
        if self.newest >= 0 { self.nodes[self.newest]!.newer = slot }
        self.newest = slot
        if self.oldest < 0 { self.oldest = slot }
    }

    private mutating func unlink(_ slot: Int) {
        let node = self.nodes[slot]!
        if node.newer >= 0 { self.nodes[node.newer]!.older = node.older } else { self.newest = node.older }
        if node.older >= 0 { self.nodes[node.older]!.newer = node.newer } else { self.oldest = node.newer }
    }
}
