"""The pipeline on this machine: emulated AWS, the Rekognition emulator and the real handler."""
