from django.conf import settings
from django.shortcuts import render

from .models import Greeting


def home(request):
    return render(
        request,
        "greenlight_example/home.html",
        {"release": settings.GREENLIGHT_RELEASE, "greetings": Greeting.objects.order_by("-id")[:5]},
    )
