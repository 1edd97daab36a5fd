import Foundation

/// The one extension → media type table, used by mail attachments, HTTP uploads and the HTTP
/// server's static files (which add `; charset=utf-8` to text types).
public enum MediaTypes {
    /// The media type for a file name by its extension, application/octet-stream when unknown.
    public static func forFileName(_ name: String) -> String {
        let base = name.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? name
        guard let dot = base.lastIndex(of: "."), dot != base.startIndex else { return "application/octet-stream" }
        return table[base[base.index(after: dot)...].lowercased()] ?? "application/octet-stream"
    }

    /// The Content-Type the HTTP server sends for a file: text types say their charset.
    public static func contentType(forFile name: String) -> String {
        let type = forFileName(name)
        return type.hasPrefix("text/") ? type + "; charset=utf-8" : type
    }

    static let table: [String: String] = [
        // text
        "txt": "text/plain", "text": "text/plain", "log": "text/plain", "net": "text/plain", "c": "text/plain", "h": "text/plain",
        "html": "text/html", "htm": "text/html", "css": "text/css", "js": "text/javascript", "mjs": "text/javascript",
        "csv": "text/csv", "md": "text/markdown", "ics": "text/calendar", "py": "text/x-python", "sh": "text/x-sh",
        // structured data and documents
        "json": "application/json", "map": "application/json", "xml": "application/xml",
        "yaml": "application/yaml", "yml": "application/yaml", "pdf": "application/pdf", "rtf": "application/rtf",
        "wasm": "application/wasm",
        "doc": "application/msword", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls": "application/vnd.ms-excel", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt": "application/vnd.ms-powerpoint", "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt": "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet",
        // archives
        "zip": "application/zip", "gz": "application/gzip", "tgz": "application/gzip", "tar": "application/x-tar",
        "bz2": "application/x-bzip2", "xz": "application/x-xz", "zst": "application/zstd",
        "7z": "application/x-7z-compressed", "iso": "application/x-iso9660-image",
        // images, sound, video, fonts
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "svg": "image/svg+xml",
        "webp": "image/webp", "avif": "image/avif", "bmp": "image/bmp", "ico": "image/vnd.microsoft.icon",
        "tif": "image/tiff", "tiff": "image/tiff",
        "mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg", "flac": "audio/flac",
        "mp4": "video/mp4", "webm": "video/webm", "mov": "video/quicktime",
        "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf", "otf": "font/otf",
        // keys and certificates
        "pem": "application/x-pem-file", "crt": "application/x-x509-ca-cert",
    ]
}
