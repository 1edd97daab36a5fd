import NetKit
