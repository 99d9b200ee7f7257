package io.stratus.hook;

/**
 * Where a product's data push goes: the application's URL and token. {@code batch}: several messages per POST with
 * {@code msg} an array (default), or one message per POST with {@code msg} an object, as OneNET's two push modes.
 */
public record PushTarget(long productId, String url, String token, boolean enabled, boolean batch, long createTime,
                         long updateTime) {
}
