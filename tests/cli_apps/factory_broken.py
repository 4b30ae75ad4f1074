def create_app():
    return len(1, 2)  # a bug inside the factory: its TypeError must surface
