namespace Snow.Native.Loop;

/// <summary>A timer scheduled on an <see cref="EventLoop"/>; cancel it through the loop that made it.</summary>
internal sealed class LoopTimer
{
    internal LoopTimer(long dueMilliseconds, long sequence, Action<object?> callback, object? state)
    {
        DueMilliseconds = dueMilliseconds;
        Sequence = sequence;
        Callback = callback;
        State = state;
    }

    /// <summary>When it fires, on the loop's millisecond clock.</summary>
    public long DueMilliseconds { get; internal set; }

    internal long Sequence { get; set; }

    internal Action<object?> Callback { get; }

    internal object? State { get; }

    /// <summary>Its place in the heap, or -1 once it fired or was cancelled.</summary>
    internal int HeapIndex { get; set; } = -1;

    public bool IsPending => HeapIndex >= 0;
}

/// <summary>
/// A binary min-heap of timers ordered by due time, then by scheduling order, so timers due at the same moment
/// fire in the order they were scheduled. Each timer knows its index, which makes cancellation O(log n).
/// </summary>
internal sealed class TimerHeap
{
    private LoopTimer[] _items = new LoopTimer[16];
    private long _nextSequence;

    public int Count { get; private set; }

    public LoopTimer Add(long dueMilliseconds, Action<object?> callback, object? state)
    {
        var timer = new LoopTimer(dueMilliseconds, _nextSequence++, callback, state);
        Insert(timer);
        return timer;
    }

    private void Insert(LoopTimer timer)
    {
        if (Count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
        _items[Count] = timer;
        timer.HeapIndex = Count;
        Count++;
        SiftUp(timer.HeapIndex);
    }

    /// <summary>Schedules a timer that fired or was cancelled once more, without allocating a new one.</summary>
    public void Readd(LoopTimer timer, long dueMilliseconds)
    {
        if (timer.IsPending) throw new InvalidOperationException("The timer is still pending.");
        timer.DueMilliseconds = dueMilliseconds;
        timer.Sequence = _nextSequence++;
        Insert(timer);
    }

    public bool Remove(LoopTimer timer)
    {
        int index = timer.HeapIndex;
        if (index < 0 || index >= Count || !ReferenceEquals(_items[index], timer)) return false;
        RemoveAt(index);
        return true;
    }

    /// <summary>The earliest due time, or null when empty.</summary>
    public long? NextDue => Count == 0 ? null : _items[0].DueMilliseconds;

    /// <summary>Removes and returns the earliest timer if it is due at <paramref name="now"/>.</summary>
    public LoopTimer? PopDue(long now)
    {
        if (Count == 0 || _items[0].DueMilliseconds > now) return null;
        LoopTimer first = _items[0];
        RemoveAt(0);
        return first;
    }

    private void RemoveAt(int index)
    {
        LoopTimer removed = _items[index];
        removed.HeapIndex = -1;
        Count--;
        if (index == Count)
        {
            _items[Count] = null!;
            return;
        }
        LoopTimer last = _items[Count];
        _items[Count] = null!;
        _items[index] = last;
        last.HeapIndex = index;
        SiftDown(index);
        SiftUp(last.HeapIndex);
    }

    private static bool Earlier(LoopTimer a, LoopTimer b) =>
        a.DueMilliseconds < b.DueMilliseconds || (a.DueMilliseconds == b.DueMilliseconds && a.Sequence < b.Sequence);

    private void SiftUp(int index)
    {
        LoopTimer item = _items[index];
        while (index > 0)
        {
            int parent = (index - 1) / 2;
            if (!Earlier(item, _items[parent])) break;
            _items[index] = _items[parent];
            _items[index].HeapIndex = index;
            index = parent;
        }
        _items[index] = item;
        item.HeapIndex = index;
    }

    private void SiftDown(int index)
    {
        LoopTimer item = _items[index];
        while (true)
        {
            int child = (2 * index) + 1;
            if (child >= Count) break;
            if (child + 1 < Count && Earlier(_items[child + 1], _items[child])) child++;
            if (!Earlier(_items[child], item)) break;
            _items[index] = _items[child];
            _items[index].HeapIndex = index;
            index = child;
        }
        _items[index] = item;
        item.HeapIndex = index;
    }
}
