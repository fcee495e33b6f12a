import SockeyeTransport

/// The objects behind the opaque C handles (`sockeye_runtime *`, `sockeye_client *`,
/// `sockeye_event *`).
///
/// A handle is not a pointer to memory: it encodes a slot index, the slot's generation and
/// the object kind (`generation << 32 | kind << 24 | index + 1`). Every call looks the
/// handle up under one lock, so a freed runtime or client, a released event, a handle of
/// another kind or a value that never came from the library is answered with
/// SOCKEYE_E_INVALID_HANDLE instead of touching freed memory. A slot's generation grows on
/// every reuse, so a stale handle matches again only after 2^32 reuses of its slot.
final class HandleTable: @unchecked Sendable {
    enum Kind: UInt64 {
        case runtime = 1
        case client = 2
        case event = 3
    }

    private struct Slot {
        var generation: UInt32 = 1
        var kind: Kind?
        var object: AnyObject?
        var references = 0
    }

    static let shared = HandleTable()

    private let lock = ServiceLock()
    private var slots: [Slot] = []
    private var freeSlots: [Int] = []
    private static let indexMask: UInt64 = 0xFF_FFFF

    /// Registers `object` with one reference; returns its handle.
    func insert(_ object: AnyObject, kind: Kind) -> OpaquePointer {
        lock.withLock { claim(object, kind: kind) }
    }

    /// Takes a free slot (or a new one) for `object` with one reference. Caller holds `lock`.
    private func claim(_ object: AnyObject, kind: Kind) -> OpaquePointer {
        let index: Int
        if let reused = freeSlots.popLast() {
            index = reused
        } else {
            index = slots.count
            slots.append(Slot())
        }
        slots[index].kind = kind
        slots[index].object = object
        slots[index].references = 1
        return Self.encode(index: index, generation: slots[index].generation, kind: kind)
    }

    /// Registers each of `objects` with one reference, under one lock; returns their handles.
    func insert(_ objects: [AnyObject], kind: Kind) -> [OpaquePointer] {
        lock.withLock { objects.map { claim($0, kind: kind) } }
    }

    /// The live object behind `handle`, if it is one of `kind`.
    func lookup<T: AnyObject>(_ handle: OpaquePointer?, kind: Kind, as type: T.Type) -> T? {
        guard let handle else { return nil }
        return lock.withLock {
            guard let index = locate(handle, kind: kind) else { return nil }
            return slots[index].object as? T
        }
    }

    /// Takes one more reference. False when the handle is not live.
    func retain(_ handle: OpaquePointer?, kind: Kind) -> Bool {
        guard let handle else { return false }
        return lock.withLock {
            guard let index = locate(handle, kind: kind) else { return false }
            slots[index].references += 1
            return true
        }
    }

    /// Outcome of `release`.
    enum Release<T> {
        case invalid
        case stillReferenced(T)
        case last(T)
    }

    /// Gives back one reference; the slot is freed (the handle becomes invalid) with the last.
    func release<T: AnyObject>(_ handle: OpaquePointer?, kind: Kind, as type: T.Type) -> Release<T> {
        guard let handle else { return .invalid }
        return lock.withLock {
            guard let index = locate(handle, kind: kind), let object = slots[index].object as? T else {
                return .invalid
            }
            slots[index].references -= 1
            guard slots[index].references == 0 else { return .stillReferenced(object) }
            vacate(index)
            return .last(object)
        }
    }

    /// Invalidates `handle` whatever its reference count (free of runtimes and clients).
    func remove<T: AnyObject>(_ handle: OpaquePointer?, kind: Kind, as type: T.Type) -> T? {
        guard let handle else { return nil }
        return lock.withLock {
            guard let index = locate(handle, kind: kind), let object = slots[index].object as? T else { return nil }
            vacate(index)
            return object
        }
    }

    // MARK: Under the lock

    private func vacate(_ index: Int) {
        slots[index].object = nil
        slots[index].kind = nil
        slots[index].references = 0
        slots[index].generation &+= 1
        if slots[index].generation == 0 { slots[index].generation = 1 }
        freeSlots.append(index)
    }

    private func locate(_ handle: OpaquePointer, kind: Kind) -> Int? {
        let bits = UInt64(UInt(bitPattern: UnsafeRawPointer(handle)))
        let low = bits & Self.indexMask
        guard low > 0, (bits >> 24) & 0xFF == kind.rawValue else { return nil }
        let index = Int(low - 1)
        guard index < slots.count, slots[index].kind == kind,
            slots[index].generation == UInt32(truncatingIfNeeded: bits >> 32)
        else { return nil }
        return index
    }

    private static func encode(index: Int, generation: UInt32, kind: Kind) -> OpaquePointer {
        let bits = UInt64(generation) << 32 | kind.rawValue << 24 | UInt64(index + 1)
        return OpaquePointer(bitPattern: UInt(bits))!
    }
}
