"""The pipeline on this machine: emulated AWS (moto), the Rekognition emulator (`emulator/`), the event source
mapping and the schedule that run the real handlers in processes of their own."""
