import Synchronization
import Testing

@testable import Pipeline

@Suite struct BoundedChannelTests {
    @Test func deliversEveryElementInOrderThenEnds() async {
        let channel = BoundedChannel<Int>(capacity: 3)
        async let sent: Void = {
            for value in 0..<1000 { await channel.send(value) }
            channel.finish()
        }()
        var received: [Int] = []
        for await value in channel.elements { received.append(value) }
        await sent
        #expect(received == Array(0..<1000))
    }

    @Test(.timeLimit(.minutes(1))) func aFullChannelHoldsItsSenderUntilAnElementIsTaken() async {
        let channel = BoundedChannel<Int>(capacity: 2)
        await channel.send(1)
        await channel.send(2)
        let thirdSent = Atomic(false)
        let sender = Task {
            await channel.send(3)
            thirdSent.store(true, ordering: .sequentiallyConsistent)
        }
        while await channel.depthForTesting < 3 { await Task.yield() }  // the sender is queued, waiting for room
        let sentWhileFull = thirdSent.load(ordering: .sequentiallyConsistent)
        #expect(!sentWhileFull)
        #expect(await channel.receive() == 1)
        await sender.value
        #expect(await channel.receive() == 2)
        #expect(await channel.receive() == 3)
    }

    @Test(.timeLimit(.minutes(1))) func finishingKeepsWhatWasSentIncludingAWaitingSendersElement() async {
        let channel = BoundedChannel<Int>(capacity: 1)
        await channel.send(1)
        let waitingSender = Task { await channel.send(2) }
        while await channel.depthForTesting < 2 { await Task.yield() }
        channel.finish()
        await waitingSender.value
        await channel.send(3)  // after finish: dropped, does not wait
        #expect(await channel.receive() == 1)
        #expect(await channel.receive() == 2)
        #expect(await channel.receive() == nil)
    }

    @Test(.timeLimit(.minutes(1))) func aWaitingReceiverGetsTheNextElementOrTheEnd() async {
        let channel = BoundedChannel<Int>(capacity: 1)
        let first = Task { await channel.receive() }
        let second = Task { await channel.receive() }
        await channel.send(7)
        channel.finish()
        let results = [await first.value, await second.value]
        #expect(results.contains(7) && results.contains(nil))
    }

    @Test(.timeLimit(.minutes(1))) func cancellingAWaitingSenderOrReceiverReleasesIt() async {
        let full = BoundedChannel<Int>(capacity: 1)
        await full.send(1)
        let sender = Task { await full.send(2) }
        sender.cancel()
        await sender.value
        #expect(await full.receive() == 1)
        full.finish()
        let rest = await full.receive()
        #expect(rest == nil || rest == 2)  // cancelled while waiting (dropped), or before it had to wait (sent)

        let empty = BoundedChannel<Int>(capacity: 1)
        let receiver = Task { await empty.receive() }
        receiver.cancel()
        #expect(await receiver.value == nil)
    }
}

@Suite struct StopSignalTests {
    /// Waiters are woken by the request itself (no polling): a wait without deadline returns once the stop comes,
    /// a sleep ends early and says so, a cancelled waiter returns, and a request before the wait returns at once.
    @Test(.timeLimit(.minutes(1))) func aStopWakesEveryWaiterAtOnce() async {
        let stop = StopSignal()
        let began = ContinuousClock.now
        let cancelled = Task { await stop.wait() }
        cancelled.cancel()
        await cancelled.value
        async let waited: Void = stop.wait()
        async let slept = stop.sleep(until: .now + .seconds(600))
        stop.requestStop()
        await waited
        #expect(await slept == false)
        #expect(await stop.sleep(until: .now + .seconds(600)) == false)
        await stop.wait()
        #expect(ContinuousClock.now - began < .seconds(30))
        #expect(await StopSignal().sleep(until: .now + .milliseconds(10)), "no stop: the whole time passes")
    }
}
