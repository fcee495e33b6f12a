import Foundation
@testable import SockeyeTransport
import Synchronization
import Testing

/// Counts how many of its instances have ended.
private final class Tracked: @unchecked Sendable {
    static let ended = Atomic<Int>(0)
    let id: Int
    init(_ id: Int) { self.id = id }
    deinit { Tracked.ended.add(1, ordering: .relaxed) }
}

/// A count shared by tasks.
private final class GiversDone: Sendable {
    let value = Atomic<Int>(0)
}

@Suite("event memory handed back to the service thread", .serialized)
struct ServiceThreadReleasesTests {
    @Test("a reference given is dropped at the next drain, not before")
    func referenceDroppedAtDrain() {
        let releases = ServiceThreadReleases()
        let before = Tracked.ended.load(ordering: .relaxed)
        do {
            let object = Tracked(1)
            #expect(releases.give(.reference(Unmanaged<AnyObject>.passRetained(object)), byteCount: 100))
        }
        // The caller's reference is gone; the one given keeps the object alive.
        #expect(Tracked.ended.load(ordering: .relaxed) == before)
        releases.drain()
        #expect(Tracked.ended.load(ordering: .relaxed) == before + 1)
        // A second drain has nothing left to drop.
        releases.drain()
        #expect(Tracked.ended.load(ordering: .relaxed) == before + 1)
    }

    @Test("memory given is freed at the drain, once (the C ABI tests run this path under ASan and LeakSanitizer)")
    func memoryFreedAtDrain() {
        let releases = ServiceThreadReleases()
        for size in [1, 1024, 64 * 1024] {
            let block = malloc(size)!
            memset(block, 0x5a, size)
            #expect(releases.give(.memory(block), byteCount: size))
        }
        releases.drain()
    }

    @Test("at most maxItems wait: the next is refused and stays the caller's to free")
    func itemBound() {
        let releases = ServiceThreadReleases()
        let before = Tracked.ended.load(ordering: .relaxed)
        var kept: [Tracked] = []
        for index in 0..<ServiceThreadReleases.maxItems {
            let object = Tracked(index)
            #expect(releases.give(.reference(Unmanaged<AnyObject>.passRetained(object)), byteCount: 1))
            kept.append(object)
        }
        let extra = Tracked(-1)
        let reference = Unmanaged<AnyObject>.passRetained(extra)
        #expect(!releases.give(.reference(reference), byteCount: 1))
        reference.release()
        kept.removeAll()
        releases.drain()
        #expect(Tracked.ended.load(ordering: .relaxed) == before + ServiceThreadReleases.maxItems)
        // Drained, it takes again.
        let again = Tracked(0)
        #expect(releases.give(.reference(Unmanaged<AnyObject>.passRetained(again)), byteCount: 1))
        releases.drain()
        _ = extra.id
    }

    @Test("at most maxBytes wait: a block that would pass the bound is refused")
    func byteBound() {
        let releases = ServiceThreadReleases()
        let half = ServiceThreadReleases.maxBytes / 2
        let first = malloc(16)!
        let second = malloc(16)!
        let third = malloc(16)!
        #expect(releases.give(.memory(first), byteCount: half))
        #expect(releases.give(.memory(second), byteCount: half))
        #expect(!releases.give(.memory(third), byteCount: 1))
        free(third)
        releases.drain()
        // One block larger than the whole bound is never taken.
        let oversize = malloc(16)!
        #expect(!releases.give(.memory(oversize), byteCount: ServiceThreadReleases.maxBytes + 1))
        free(oversize)
        // Nothing waits now: the whole budget is there again.
        let fourth = malloc(16)!
        #expect(releases.give(.memory(fourth), byteCount: ServiceThreadReleases.maxBytes))
        releases.drain()
    }

    @Test("what is still queued when the list goes away is freed with it")
    func queuedFreedAtDeinit() {
        let before = Tracked.ended.load(ordering: .relaxed)
        do {
            let releases = ServiceThreadReleases()
            let object = Tracked(9)
            #expect(releases.give(.reference(Unmanaged<AnyObject>.passRetained(object)), byteCount: 8))
        }
        #expect(Tracked.ended.load(ordering: .relaxed) == before + 1)
    }

    @Test("after close everything waiting is freed and every give is refused")
    func closeRefuses() {
        let releases = ServiceThreadReleases()
        let before = Tracked.ended.load(ordering: .relaxed)
        do {
            let object = Tracked(7)
            #expect(releases.give(.reference(Unmanaged<AnyObject>.passRetained(object)), byteCount: 8))
        }
        releases.close()
        #expect(Tracked.ended.load(ordering: .relaxed) == before + 1)
        let block = malloc(8)!
        #expect(!releases.give(.memory(block), byteCount: 8))
        free(block)
    }

    @Test("many threads giving while one drains: every object ends exactly once")
    func concurrentGivesAndDrains() async {
        let releases = ServiceThreadReleases()
        let before = Tracked.ended.load(ordering: .relaxed)
        let perThread = 20_000
        let threads = 4
        let done = GiversDone()
        await withTaskGroup(of: Void.self) { group in
            for thread in 0..<threads {
                group.addTask {
                    for index in 0..<perThread {
                        let object = Tracked(thread * perThread + index)
                        let reference = Unmanaged<AnyObject>.passRetained(object)
                        // Refused (the bound): the giver lets go itself, as hosts do.
                        if !releases.give(.reference(reference), byteCount: 1024) { reference.release() }
                    }
                    done.value.add(1, ordering: .releasing)
                }
            }
            group.addTask {
                // The "service thread": drains until every giver is done, then once more.
                let deadline = Date().addingTimeInterval(60)
                while done.value.load(ordering: .acquiring) < threads, Date() < deadline { releases.drain() }
                releases.drain()
            }
        }
        #expect(Tracked.ended.load(ordering: .relaxed) == before + threads * perThread)
    }
}
