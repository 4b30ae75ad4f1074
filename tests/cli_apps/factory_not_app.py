def create_app():
    return "not an app"
