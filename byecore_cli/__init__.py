"""byecore: config switching, protocol translation and diagnosis for AI coding agents."""

__version__ = "0.1.0"
