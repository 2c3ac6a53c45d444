"""Offline stand-ins for AWS: a Rekognition Custom Labels emulator and its detection backends."""
