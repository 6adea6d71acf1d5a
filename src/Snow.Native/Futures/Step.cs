namespace Snow.Native;

/// <summary>
/// What an iterator handler yields: a <see cref="Future"/> to park on, or the final <see cref="HttpResponse"/>.
/// Both convert implicitly, so <c>yield return future;</c> and <c>yield return new HttpResponse("done");</c> both
/// work. After a yielded future is ready, its callback makes the response if it has one; otherwise the iterator
/// resumes, and <see cref="Future.Result"/> holds the value (reading it throws if the future failed or was canceled,
/// which answers the request with a 500).
/// </summary>
public readonly struct Step
{
    private Step(Future? future, HttpResponseBase? response)
    {
        Future = future;
        Response = response;
    }

    /// <summary>The future to park on, or null when this step is the response.</summary>
    public Future? Future { get; }

    /// <summary>The response that ends the handler, or null when this step parks on a future.</summary>
    public HttpResponseBase? Response { get; }

    /// <summary>A step that parks the request on <paramref name="future"/>.</summary>
    public static implicit operator Step(Future future) => new(future ?? throw new ArgumentNullException(nameof(future)), null);

    /// <summary>A step that answers with <paramref name="response"/>.</summary>
    public static implicit operator Step(HttpResponseBase response) => new(null, response ?? throw new ArgumentNullException(nameof(response)));

    /// <summary>A step that parks the request on <paramref name="future"/>.</summary>
    public static Step Park(Future future) => future;

    /// <summary>A step that answers with <paramref name="response"/>.</summary>
    public static Step Respond(HttpResponseBase response) => response;
}
