using StackExchange.Redis;

namespace Snow.Native;

// The publish: one atomic script in Redis that bumps the key's version, keeps the message beside it and publishes it;
// apart because it is the one path that writes, and it never touches the registry's state.
internal sealed partial class KeyRegistry
{
    // The publish, atomic in Redis: bump the key's version (creating the hash with a random epoch the first time),
    // keep the message beside it for readers that missed the channel, and publish "epoch:version:message".
    private const string PublishScript = """
        redis.call('HSETNX', KEYS[1], 'e', ARGV[1])
        local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
        redis.call('HSET', KEYS[1], 'p', ARGV[2])
        local ttl = tonumber(ARGV[3])
        if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
        local e = redis.call('HGET', KEYS[1], 'e')
        return redis.call('PUBLISH', KEYS[1], e .. ':' .. v .. ':' .. ARGV[2])
        """;

    public async Task<long> PublishAsync(string key, string message)
    {
        ValidateKey(key);
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(_disposed, typeof(RedisFutures));
        long ttl = _options.VersionTimeToLive == Timeout.InfiniteTimeSpan ? 0 : (long)_options.VersionTimeToLive.TotalMilliseconds;
        string epoch = Random.Shared.NextInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            RedisResult receivers = await _database.ScriptEvaluateAsync(PublishScript, [ChannelName(key)], [epoch, message, ttl]).ConfigureAwait(false);
            return (long)receivers;
        }
        catch (RedisConnectionException e)
        {
            throw new KeyedPublishException(key, mayHaveBeenDelivered: false, e);
        }
        catch (RedisTimeoutException e)
        {
            throw new KeyedPublishException(key, mayHaveBeenDelivered: true, e);
        }
    }
}
