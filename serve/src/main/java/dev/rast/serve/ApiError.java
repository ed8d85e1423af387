package dev.rast.serve;

/**
 * A request the server refuses, answered with its HTTP status and OpenAI's error object
 * {@code {"error": {"message", "type", "param", "code"}}}.
 */
final class ApiError extends RuntimeException {
    final int status;
    final String type, param, code;

    ApiError(int status, String type, String param, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400: the request names a bad value; {@code param} is the field (may be null). */
    static ApiError invalid(String param, String message) {
        return new ApiError(400, "invalid_request_error", param, null, message);
    }

    java.util.Map<String, Object> body() {
        var error = new java.util.LinkedHashMap<String, Object>();
        error.put("message", getMessage());
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return java.util.Map.of("error", error);
    }
}
